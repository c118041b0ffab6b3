package flasksession_test

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/seshat-go/seshat/flasksession"
	"github.com/seshat-go/seshat/taggedjson"
)

// A session dict as Flask-Session 0.3.2 stores it in Redis:
// pickle.dumps({"user": "bob", "cart": [1, 2], "pair": (1, "x"), "raw": b"\x00"}).
func ExampleDecodePickle() {
	data, _ := hex.DecodeString("8004953a000000000000007d94288c0475736572948c03626f62948c0463617274945d94284b014b02658c04" +
		"70616972944b018c01789486948c037261779443010094752e")
	v, err := flasksession.DecodePickle(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	session := v.(map[string]any)
	fmt.Println(session["user"], session["cart"], session["raw"])
	pair := session["pair"].(taggedjson.Tuple)
	fmt.Println(len(pair), pair[1])

	// A pickle that would import and call code is refused, naming the
	// opcode: here os.system("id") from a protocol 2 pickle.
	evil, _ := hex.DecodeString("800263706f7369780a73797374656d0a71005802000000696471018571025271032e")
	_, err = flasksession.DecodePickle(evil)
	fmt.Println(errors.Is(err, flasksession.ErrUnsupportedOpcode))
	fmt.Println(err)
	// Output:
	// bob [1 2] [0]
	// 2 x
	// true
	// flasksession: unsupported pickle opcode: GLOBAL: only plain data (dict, list, tuple, str, bytes, int, float, bool, None) is accepted; objects are never constructed (at offset 2)
}
