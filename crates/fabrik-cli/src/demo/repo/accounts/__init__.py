"""A tiny account store: sign-up validation and password hashing."""
