"""Errors the engine raises for input a person can fix."""


class EngineInputError(Exception):
    """Bad input the user can fix (unreadable file, empty text, no face...).

    The message is shown to people as it is: say what is wrong and what to do.
    """
