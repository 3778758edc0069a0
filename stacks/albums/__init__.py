from stacks.albums.stack import AlbumsStack

__all__ = ["AlbumsStack"]
