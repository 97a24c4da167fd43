"""The per-sender failure budget: which messages spend it.

A sender may send `[limits] sender_failures` spending messages per window; the first one over
the budget starts a cool-off in which its messages match nothing. A message is charged one
failure *before* any code is looked up (so concurrent messages can never overspend), and the
charge is given back only when `spends` says the message was free.

| Outcome | Spends | Why |
|---|---|---|
| `matched`, the message offered one code | no | it verified a pending challenge: no guess |
| `matched`, the message offered other codes too | yes | the other codes were guesses |
| `unknown_code` | yes | a guess that hit nothing |
| `wrong_sender` | yes | a code sent from another phone than the expected one |
| `expired` | yes | the code no longer verifies anything |
| `already_settled` | yes | the code of an ended challenge verifies nothing |
| `invalid_sender` | yes | the sender is not a phone number: it can verify nothing |
| `no_code`, `unknown_number`, `wrong_provider` | no | decided before any code is looked up |
| `duplicate` | no | a redelivery is recognised before it is charged |
| `sender_blocked` | no more | the sender is already cooling off |
| `country_denied` | no | decided before the budget: the sender's country matches nothing |
| `sender_type_refused` | yes | a premium-rate or shared-cost sender's discovery code |
| `partial` | no | one part of a long SMS; the whole message is charged once |

So whatever a message carries, only a message that verified a pending challenge with the one
code it offered is free: adding the code of an ended challenge to a guess no longer refunds it.
"""

from __future__ import annotations

from app.domain.challenges import Outcome

# Decided before the budget is consulted: these messages offer no code to look up.
UNCHARGED = frozenset(
    {
        Outcome.NO_CODE,
        Outcome.UNKNOWN_NUMBER,
        Outcome.WRONG_PROVIDER,
        Outcome.DUPLICATE,
        Outcome.SENDER_BLOCKED,
        Outcome.PARTIAL,
        Outcome.COUNTRY_DENIED,
    }
)


def spends(outcome: Outcome, offered: int) -> bool:
    """Tell whether a message with this outcome, which offered `offered` codes, spends one
    failure of its sender's budget (the table above)."""
    if outcome in UNCHARGED:
        return False
    return not (outcome is Outcome.MATCHED and offered == 1)
