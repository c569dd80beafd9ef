from hotline.cli.main import app

app()
