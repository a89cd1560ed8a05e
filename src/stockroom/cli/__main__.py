from stockroom.cli import app

app()
