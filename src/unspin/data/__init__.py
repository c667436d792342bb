"""Small fitted parameters shipped with the package (channel, calibration)."""
