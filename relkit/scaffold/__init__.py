"""relkit init: detect the repository, render config, changelog and workflows."""
