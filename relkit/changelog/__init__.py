"""The changelog: a Keep a Changelog file read, edited, generated, linted and turned into notes."""

# The one git log that ``changelog generate --all`` reads: every commit of HEAD
# with its decorations, children before parents. git walks the whole history
# before it prints the first commit; the ``relkit`` executable starts it before
# typer loads (see relkit.launch), so that walk costs no time of its own.
HISTORY_FIELDS = ("%H", "%D", "%B")
HISTORY_OPTIONS = ("--topo-order",)
