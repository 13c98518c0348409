"""Sign-up: validate a new account and store it with a hashed password."""

import re

from accounts.hashing import hash_password

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,31}$")
MIN_PASSWORD_LENGTH = 12


class SignupError(ValueError):
    """A sign-up request that cannot be accepted."""


class DuplicateUserError(SignupError):
    """The username is already taken."""


class WeakPasswordError(SignupError):
    """The password is shorter than MIN_PASSWORD_LENGTH characters."""


def validate_username(username):
    """Raise SignupError unless username matches USERNAME_PATTERN."""
    if not USERNAME_PATTERN.match(username):
        raise SignupError(f"invalid username: {username!r}")


def validate_password(password):
    """Raise WeakPasswordError unless password has MIN_PASSWORD_LENGTH characters or more."""
    if len(password) <= MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def register_user(store, username, password):
    """Create the account username in store (a dict) and return its record."""
    validate_username(username)
    validate_password(password)
    if username in store:
        raise DuplicateUserError(f"username taken: {username}")
    record = {"username": username, "password_hash": hash_password(password)}
    store[username] = record
    return record
