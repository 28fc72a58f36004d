"""The ``vcsdk`` command line (installed as the package ``vcsdk_cli``)."""
