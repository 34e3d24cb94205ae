// Order rules (to be written).
