package kafka_test

import (
	"fmt"

	"vaultwatch/internal/source/kafka"
)

func ExampleConfig_Validate() {
	cfg := kafka.Config{
		Name:        "eventhubs",
		Topics:      []string{"insights-logs-auditevent"},
		StartOffset: "oldest",
		SASL:        kafka.SASL{Mechanism: "PLAIN", User: "vaultwatch"},
	}
	fmt.Println(cfg.Validate())
	// Output:
	// kafka config: brokers is empty and there is no Event Hubs connection string
	// kafka config: start_offset "oldest" is not "earliest" or "latest"
	// kafka config: sasl: password or password_file is required
}

func ExampleParseEventHubsConnectionString() {
	c, err := kafka.ParseEventHubsConnectionString(
		"Endpoint=sb://contoso-logs.servicebus.windows.net/;SharedAccessKeyName=vaultwatch-listen;SharedAccessKey=bm90LWEtcmVhbC1rZXk=;EntityPath=insights-logs-auditevent")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Broker(), c.EntityPath, c.KeyName, c.Key)
	_, err = kafka.ParseEventHubsConnectionString("SharedAccessKeyName=vaultwatch-listen;SharedAccessKey=bm90LWEtcmVhbC1rZXk=")
	fmt.Println(err)
	// Output:
	// contoso-logs.servicebus.windows.net:9093 insights-logs-auditevent vaultwatch-listen <secret>
	// invalid Event Hubs connection string: Endpoint is missing
}
