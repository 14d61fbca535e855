"""The changelog: a Keep a Changelog file read, edited, generated, linted and turned into notes."""

# The git log that ``changelog generate --all`` reads first: every commit of HEAD
# with its parents and decorations, in git's default order, which streams (see
# relkit.git.start_log and relkit.changelog.plans).
HISTORY_FIELDS = ("%H", "%P", "%D", "%B")
HISTORY_OPTIONS: tuple[str, ...] = ()
