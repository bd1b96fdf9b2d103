// go-alloc.go: 4 goroutines build and drop binary trees and byte slices, so the Go collector runs many cycles,
// grows the heap, and returns memory to the kernel (debug.FreeOSMemory at the end).
//   go build -o go-alloc go-alloc.go && GOMAXPROCS=2 ./go-alloc
package main

import (
	"fmt"
	"runtime/debug"
	"sync"
)

type node struct{ l, r *node }

func tree(d int) *node {
	if d == 0 {
		return &node{}
	}
	return &node{tree(d - 1), tree(d - 1)}
}

func (n *node) count() int {
	if n.l == nil {
		return 1
	}
	return 1 + n.l.count() + n.r.count()
}

func main() {
	var wg sync.WaitGroup
	total := make([]int, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var keep [][]byte
			for i := 0; i < 40; i++ {
				total[g] += tree(14).count()
				b := make([]byte, (i%8+1)<<17)
				b[len(b)-1] = byte(i)
				keep = append(keep, b)
				if len(keep) > 6 {
					keep = keep[1:]
				}
			}
		}(g)
	}
	wg.Wait()
	debug.FreeOSMemory()
	fmt.Println(total)
}
