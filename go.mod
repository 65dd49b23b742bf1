module github.com/imgsvc/imgsvc

go 1.26.8
