"""Coverage-guided fuzz targets (atheris) for every entry point that takes outside bytes."""
