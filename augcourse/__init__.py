"""What a student installs for the course "Data augmentation in a TensorFlow pipeline — model metrics &
evaluation": the lessons' runtime set-up, data and images, and the checks (probes and judges)."""

__version__ = "0.1.0"
