"""What every face draws the same way: file writers, pictures, shared renderings."""
