"""Password policy (等保 2.0 level 3, GB/T 22239-2019 8.1.4.1): length, character
classes, not the username, not one of the last few passwords.

Errors are `AccountError`s on the field `password` with stable codes the pages
translate: too_short, too_long, classes, username, reused.
"""

from __future__ import annotations

from server.config import PasswordConfig

PASSWORD_MAX = 1024  # sign-in refuses longer passwords unchecked: keep them signable
CLASS_NAMES = ("lower case", "upper case", "digits", "other characters")


def char_classes(password: str) -> int:
    """How many of the four classes the password uses (letters and digits are
    ASCII ones; anything else, Chinese characters too, is "other")."""
    lower = any("a" <= c <= "z" for c in password)
    upper = any("A" <= c <= "Z" for c in password)
    digit = any("0" <= c <= "9" for c in password)
    other = any(not (c.isascii() and c.isalnum()) for c in password)
    return sum((lower, upper, digit, other))


def policy_problem(password: str, username: str, policy: PasswordConfig) -> tuple[str, str] | None:
    """(code, plain words) for the first rule the password breaks, or None.
    Reuse needs the stored hashes: `AccountDB.set_password` checks it."""
    if len(password) < policy.min_length:
        return "too_short", f"at least {policy.min_length} characters"
    if len(password) > PASSWORD_MAX:
        return "too_long", f"at most {PASSWORD_MAX} characters"
    if char_classes(password) < policy.min_classes:
        return (
            "classes",
            f"at least {policy.min_classes} of: {', '.join(CLASS_NAMES)}",
        )
    if username and username.casefold() in password.casefold():
        return "username", "may not contain the username"
    return None


def policy_json(policy: PasswordConfig) -> dict[str, int]:
    return {
        "min_length": policy.min_length,
        "min_classes": policy.min_classes,
        "history": policy.history,
    }
