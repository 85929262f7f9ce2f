/// Figures: PNG/GIF through libpng and giflib, a canvas, plots and image grids.
public enum Figures {}
