# The SDK's version; pyproject.toml reads it from here.
#
# webhookd itself has no release number yet: its version is `git describe`
# of the build (internal/version). When webhookd is first tagged, this must
# become that tag's version, so that an SDK and the server it was generated
# with carry one number.
__version__ = "0.0.0"
