# The SDK's version; pyproject.toml reads it from here. It is webhookd's own
# version, the repository's VERSION file (one number for the server and its
# SDKs); sdk/python/version_test.go keeps the two equal.
__version__ = "0.1.0"
