"""Tests of accounts.signup; run them with: python3 -m unittest discover -s tests"""

import unittest

from accounts.hashing import verify_password
from accounts.signup import DuplicateUserError, SignupError, register_user


class RegisterUserTest(unittest.TestCase):
    def test_stores_a_hash_not_the_password(self):
        store = {}
        record = register_user(store, "alice", "correct horse battery staple")
        self.assertIs(store["alice"], record)
        self.assertNotIn("correct horse", record["password_hash"])
        self.assertTrue(verify_password("correct horse battery staple", record["password_hash"]))

    def test_rejects_a_taken_username(self):
        store = {"alice": {"username": "alice", "password_hash": "x$y"}}
        with self.assertRaises(DuplicateUserError):
            register_user(store, "alice", "another long passphrase")

    def test_rejects_an_invalid_username(self):
        with self.assertRaises(SignupError):
            register_user({}, "Al", "correct horse battery staple")


if __name__ == "__main__":
    unittest.main()
