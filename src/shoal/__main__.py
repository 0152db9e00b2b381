from shoal.cli.main import app

app()
