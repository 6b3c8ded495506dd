"""The one exception type a user is meant to see: a message that names the problem and the fix."""


class UserError(Exception):
    """Bad input from the user (a missing file, a wrong shape, a bad value).

    The CLI prints ``str(error)`` as one line and exits with status 1; the message must say what is
    wrong and how to fix it.
    """
