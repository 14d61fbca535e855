pytest_plugins = ["tests.docker_support"]
