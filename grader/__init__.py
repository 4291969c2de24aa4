"""Tools of the course "Data augmentation in a TensorFlow pipeline — model metrics & evaluation"."""

__version__ = "0.1.0"
