"""Independent checker: measures planted phenomena from emitted tables and scores ground truth."""
