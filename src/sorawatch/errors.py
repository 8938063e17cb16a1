"""The one exception tree.

Failures of the watched world (an upstream answering 503, a status page down) are *data*
(observations with an outcome), never exceptions. Exceptions are for bad configuration,
broken storage and bugs; the CLI turns every ``SorawatchError`` into one clear line.
"""


class SorawatchError(Exception):
    """Base of every error sorawatch raises on purpose."""


class ConfigError(SorawatchError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds one ``"key.path: message"`` line per problem so that every error is
    reported at once, not only the first.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems or []

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return super().__str__() + "\n" + "\n".join(f"  {p}" for p in self.problems)


class StoreError(SorawatchError):
    """The store cannot be opened, migrated or written."""


class ScenarioError(SorawatchError):
    """A simulator scenario file is invalid."""
