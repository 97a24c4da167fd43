// Phone verification in an Express app, with the reverse-otp client.
//
//   npm install express reverse-otp
//   REVERSE_OTP_URL=https://verify.example.com REVERSE_OTP_API_KEY=... \
//   REVERSE_OTP_CALLBACK_SECRET=whsec_... node express.mjs
//
// The API key stays on the server; the browser follows the status with the token only (the
// hosted page, the widget or `events_url`); the outcome is read from the API or the signed
// callback, never from the browser. Sessions are left out: keep the challenge id in yours.
import express from "express";
import { Client, InvalidCallbackError, verifyCallback } from "reverse-otp";

const otp = new Client({ baseUrl: process.env.REVERSE_OTP_URL, apiKey: process.env.REVERSE_OTP_API_KEY });
const app = express();

app.post("/phone/verify", express.urlencoded({ extended: false }), async (req, res, next) => {
  try {
    const challenge = await otp.create({ phone: req.body.phone });
    // store challenge.id in the user's session here
    res.json({
      verify_url: challenge.verify_url, // the hosted page: send the user there, or
      body: challenge.body, // show the text to send,
      to: challenge.to, // the number to text,
      sms_uri: challenge.sms_uri, // a link opening the messaging app, and
      events_url: challenge.events_url, // follow the status live (EventSource)
    });
  } catch (error) {
    next(error);
  }
});

app.post("/phone/verify/:id/done", async (req, res, next) => {
  try {
    const challenge = await otp.get(req.params.id); // check it is the one in the session
    if (challenge.status !== "verified") return res.status(409).json({ status: challenge.status });
    // save challenge.verified_phone on the user here
    res.json({ phone: challenge.verified_phone });
  } catch (error) {
    next(error);
  }
});

// Signed callbacks: verify the raw body (express.raw), before parsing it.
app.post("/reverse-otp/callbacks", express.raw({ type: "application/json" }), async (req, res, next) => {
  try {
    const event = await verifyCallback(req.body, req.headers, process.env.REVERSE_OTP_CALLBACK_SECRET);
    // event.id is the same on every retry: skip the ids you have already processed
    console.log(event.type, event.data.id);
    res.status(204).end();
  } catch (error) {
    if (error instanceof InvalidCallbackError) return res.status(400).end();
    next(error);
  }
});

app.listen(3000, () => console.log("listening on http://127.0.0.1:3000"));
