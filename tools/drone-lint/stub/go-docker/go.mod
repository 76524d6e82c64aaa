module docker.io/go-docker
