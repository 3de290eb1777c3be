"""The one exception type the package raises for bad input.

The CLI turns it into one line on stderr and a non-zero exit; library users
catch it (it is a ``ValueError``) or let it propagate.
"""


class SignsError(ValueError):
    """A user-facing error: the message names what was wrong and what was expected."""
