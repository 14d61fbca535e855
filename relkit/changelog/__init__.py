"""The changelog: a Keep a Changelog file read, edited, generated, linted and turned into notes."""
