module local/coredns

go 1.26
