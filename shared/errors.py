"""newsflow's errors.

NewsflowError
├── PermanentError        the input can never succeed: dead-letter it, don't retry
│   ├── InvalidMessage    undecodable or schema-invalid entry
│   └── TooLarge          over a configured size limit
└── RetryableError        a passing failure (storage busy, Redis away): retry later
"""


class NewsflowError(Exception):
    """Base of every newsflow error."""


class PermanentError(NewsflowError):
    """Retrying will not help; the message goes to the dead-letter stream."""


class InvalidMessage(PermanentError):
    """The entry cannot be decoded or does not match the schema."""


class TooLarge(PermanentError):
    """The entry is over a configured size limit."""


class RetryableError(NewsflowError):
    """A passing failure; the message stays pending and is retried."""
