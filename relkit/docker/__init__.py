"""The Docker adapter: the only package that imports the Docker SDK."""
