"""Sign-up: validate a new account and store it with a hashed password."""

import re

from accounts.hashing import hash_password

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,31}$")


class SignupError(ValueError):
    """A sign-up request that cannot be accepted."""


class DuplicateUserError(SignupError):
    """The username is already taken."""


def validate_username(username):
    """Raise SignupError unless username matches USERNAME_PATTERN."""
    if not USERNAME_PATTERN.match(username):
        raise SignupError(f"invalid username: {username!r}")


def register_user(store, username, password):
    """Create the account username in store (a dict) and return its record."""
    validate_username(username)
    if username in store:
        raise DuplicateUserError(f"username taken: {username}")
    record = {"username": username, "password_hash": hash_password(password)}
    store[username] = record
    return record
