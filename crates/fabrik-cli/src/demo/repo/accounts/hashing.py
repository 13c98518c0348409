"""Password hashing: salted PBKDF2-SHA256 from the standard library."""

import hashlib
import hmac
import os

ITERATIONS = 20_000


def hash_password(password, salt=None):
    """Return "salt$hexdigest" for password; a random salt unless one is given."""
    if salt is None:
        salt = os.urandom(16).hex()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), ITERATIONS)
    return f"{salt}${digest.hex()}"


def verify_password(password, stored):
    """Whether password matches a value returned by hash_password()."""
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_password(password, salt), stored)
