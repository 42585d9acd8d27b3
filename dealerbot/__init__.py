"""dealerbot: the after-sales assistant of a used-car dealership group in the UAE."""

__version__ = "0.1.0"
