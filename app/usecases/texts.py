"""What the user sends: the SMS text of a code, in the challenge's language."""

from __future__ import annotations

from app.domain import codes, locales
from app.usecases.context import Context
from app.usecases.inbound import candidates_in


def sms_text(ctx: Context, code: str, name: str | None = None, language: str | None = None) -> str:
    """Return the text the user sends for a code, in a language (default: the operator's);
    {name} is the app's name when given."""
    fmt = ctx.policy.sms_format(language)
    return codes.render(fmt, code, name=name or ctx.policy.operator_name)


def grouped_text(ctx: Context, code: str, name: str | None, language: str | None) -> str:
    """Return the SMS text with a long code written in groups for reading (`ABCD EFGH JKMNP`).

    Extraction reads the groups as the one code. Should the groups, next to the app's name,
    offer any other candidate (a second code would make the message spend its sender's
    budget), the text keeps the code whole.
    """
    policy = ctx.policy
    others = frozenset(f.length for f in policy.formats if f.length != len(code))
    groups = codes.group(code, others)
    text = sms_text(ctx, " ".join(groups), name, language)
    if len(groups) == 1 or candidates_in(policy, text) != [code]:
        return sms_text(ctx, code, name, language)
    return text


def language(ctx: Context, locale: str | None) -> str | None:
    """Return the enabled language a well-formed BCP 47 tag asks for (None: none of them)."""
    return None if locale is None else locales.resolve(locale, ctx.policy.languages)
