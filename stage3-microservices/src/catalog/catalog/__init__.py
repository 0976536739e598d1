"""The catalogue: a category tree, products with variants and images, search and caching."""
