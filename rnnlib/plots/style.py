"""The figure palette, one home for every colour the plotting modules share.

One visual language throughout the series:

    node colours   x_t green, h_t blue, y^_t orange, L_t rose, targets y_t grey
    edge colours   W_hx green, W_hh blue, W_yh orange: one colour per shared matrix
    red            the backward (gradient) path, and bounds
    INK / NOTE     titles and annotations
    SERIES         curves of several settings, in this order

Plain strings only (no matplotlib import here), so the palette can be read anywhere.
"""

INK = "#263238"  # titles, labels
NOTE = "#455A64"  # notes, secondary text
FADED = "#B0BEC5"  # what is out of play (later steps, ...)
GRID = "#ECEFF1"  # grid lines, shaded backgrounds

BLUE, ORANGE, GREEN, ROSE, GREY, RED, PURPLE = "#1565C0", "#E65100", "#2E7D32", "#AD1457", "#616161", "#C62828", "#6A1B9A"

NODE = {  # kind -> (fill, edge)
    "x": ("#E8F5E9", GREEN),
    "h": ("#E3F2FD", BLUE),
    "y": ("#FFF3E0", ORANGE),
    "L": ("#FCE4EC", ROSE),
    "target": ("#F5F5F5", GREY),
    "faded": ("#FAFAFA", "#CFD8DC"),
}
WEIGHT = {"W_hx": GREEN, "W_hh": BLUE, "W_yh": ORANGE}  # one colour per shared matrix
BACKWARD = RED  # the gradient path
SERIES = (BLUE, ORANGE, GREEN, PURPLE)  # several settings in one plot, in this order
CMAP = "viridis"  # heatmaps and ordered families of lines
