from shoal.cli.main import run

run()
