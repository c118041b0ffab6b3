package taggedjson_test

import (
	"fmt"
	"time"

	"github.com/seshat-go/seshat/taggedjson"
)

func ExampleMarshal() {
	session := map[string]any{
		"user":     "zoë",
		"cart":     []any{1, 2, 3},
		"_flashes": []any{taggedjson.Tuple{"message", "Welcome back"}},
		"seen":     time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"ratio":    1.0,
	}
	b, err := taggedjson.Marshal(session)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"_flashes":[{" t":["message","Welcome back"]}],"cart":[1,2,3],"ratio":1.0,"seen":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"},"user":"zo\u00eb"}
}

func ExampleUnmarshal() {
	v, err := taggedjson.Unmarshal([]byte(`{"_flashes":[{" t":["error","Card declined"]}],"raw":{" b":"yv4="},"n":7,"x":NaN}`))
	if err != nil {
		panic(err)
	}
	m := v.(map[string]any)
	flash := m["_flashes"].([]any)[0].(taggedjson.Tuple)
	fmt.Printf("%q %q\n", flash[0], flash[1])
	fmt.Printf("%T %x\n", m["raw"], m["raw"])
	fmt.Printf("%T %v\n", m["n"], m["n"])
	fmt.Printf("%T %v\n", m["x"], m["x"])
	// Output:
	// "error" "Card declined"
	// []uint8 cafe
	// int64 7
	// float64 NaN
}

func ExampleUnmarshalObject() {
	session, err := taggedjson.UnmarshalObject([]byte(`{"_permanent":true,"user":"alice"}`))
	fmt.Println(session, err)

	_, err = taggedjson.UnmarshalObject([]byte(`[1,2]`))
	fmt.Println(err)
	// Output:
	// map[_permanent:true user:alice] <nil>
	// taggedjson: payload is not an object: the payload decodes to a list, not a dict (at offset 0)
}

func ExampleNormalize() {
	type profile struct {
		Name  string   `json:"name"`
		Langs []string `json:"langs"`
	}
	v, err := taggedjson.Normalize(map[string]any{
		"id":      uint16(42),
		"scores":  []float32{0.5, 2},
		"by_year": map[int]string{2024: "gold"},
		"profile": profile{Name: "alice", Langs: []string{"go"}},
	})
	if err != nil {
		panic(err)
	}
	m := v.(map[string]any)
	fmt.Printf("%T %T %v %v\n", m["id"], m["scores"].([]any)[0], m["by_year"], m["profile"])
	// Output:
	// int64 float64 map[2024:gold] map[langs:[go] name:alice]
}

func ExampleConvert() {
	v, _ := taggedjson.Unmarshal([]byte(`{"_flashes":[{" t":["error","Card declined"]}],"_remember_seconds":3600.0,"cart":[1,2,3]}`))
	m := v.(map[string]any)

	var flashes [][2]string
	var seconds int
	var cart []int
	for key, dst := range map[string]any{"_flashes": &flashes, "_remember_seconds": &seconds, "cart": &cart} {
		if err := taggedjson.Convert(m[key], dst); err != nil {
			panic(err)
		}
	}
	fmt.Println(flashes, seconds, cart)

	var name string
	fmt.Println(taggedjson.Convert(m["cart"], &name))
	// Output:
	// [[error Card declined]] 3600 [1 2 3]
	// taggedjson: type mismatch: cannot convert []interface {} to string
}

func ExampleConvertTo() {
	v, _ := taggedjson.Unmarshal([]byte(`{"visits":41,"roles":["admin","ops"]}`))
	m := v.(map[string]any)

	visits, _ := taggedjson.ConvertTo[int](m["visits"])
	roles, _ := taggedjson.ConvertTo[[]string](m["roles"])
	fmt.Println(visits+1, roles)

	_, err := taggedjson.ConvertTo[bool](m["roles"])
	fmt.Println(err)
	// Output:
	// 42 [admin ops]
	// taggedjson: type mismatch: cannot convert []interface {} to bool
}
