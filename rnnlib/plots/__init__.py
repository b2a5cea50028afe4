"""Everything in rnnlib that draws: matplotlib, Pillow and ipywidgets are imported only here."""
