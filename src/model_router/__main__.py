from model_router.cli import main

main()
