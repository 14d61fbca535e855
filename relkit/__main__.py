from relkit.cli import entry

entry()
