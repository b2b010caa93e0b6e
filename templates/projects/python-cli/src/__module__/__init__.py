"""{{name}}: {{summary}}"""

__version__ = "0.1.0"
