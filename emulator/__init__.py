"""The local AWS emulator: moto's server with our extensions and a fault hook."""
