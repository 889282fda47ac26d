package com.veltrix.config.catalog.payload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.veltrix.config.catalog.CatalogLimits;
import com.veltrix.config.catalog.DocumentKey;
import com.veltrix.config.catalog.InvalidInputException;
import com.veltrix.config.catalog.Kind;
import com.veltrix.config.catalog.PayloadTooLargeException;
import com.veltrix.config.catalog.Violation;
import com.veltrix.config.support.Payloads;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every payload rule of design.md, each error with its JSON pointer. */
class PayloadValidatorTest {

  final PayloadValidator validator = new PayloadValidator(CatalogLimits.defaults());

  List<String> pointers(Kind kind, String json) throws Exception {
    try {
      validator.validate(new DocumentKey(kind, "doc-1"), CanonicalJsonTest.parse(json));
      return List.of();
    } catch (InvalidInputException e) {
      return e.violations().stream().map(Violation::pointer).toList();
    }
  }

  @Test
  void acceptsAValidDocumentOfEachKindAndExtractsZoneAndReferences() throws Exception {
    ValidatedPayload location =
        validator.validate(
            new DocumentKey(Kind.TREASURE_LOCATION, "loc-1"),
            CanonicalJsonTest.parse(Payloads.treasureLocation("zone-a", "dt-1")));
    ValidatedPayload rule =
        validator.validate(
            new DocumentKey(Kind.SPAWN_RULE, "sr-1"),
            CanonicalJsonTest.parse(Payloads.spawnRule("zone-b", "loc-1", "dt-1")));
    ValidatedPayload table =
        validator.validate(
            new DocumentKey(Kind.DROP_TABLE, "dt-1"),
            CanonicalJsonTest.parse(Payloads.dropTable("gold", 3)));

    assertThat(location.zone()).contains("zone-a");
    assertThat(location.references()).containsExactly(new DocumentKey(Kind.DROP_TABLE, "dt-1"));
    assertThat(rule.references())
        .containsExactlyInAnyOrder(
            new DocumentKey(Kind.DROP_TABLE, "dt-1"),
            new DocumentKey(Kind.TREASURE_LOCATION, "loc-1"));
    assertThat(table.zone()).isEmpty();
    assertThat(table.contentHash()).hasSize(64);
    assertThat(table.sizeBytes()).isEqualTo(table.canonicalJson().length());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "missing zone | {'position':{'x':1,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':0} | /zone",
        "bad zone id | {'zone':'-z','position':{'x':1,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':0} | /zone",
        "position not numeric | {'zone':'z','position':{'x':'1','y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':0} | /position/x",
        "position missing z | {'zone':'z','position':{'x':1,'y':1},'radius':1,'dropTableId':'d','respawnSeconds':0} | /position/z",
        "position extra w | {'zone':'z','position':{'x':1,'y':1,'z':1,'w':1},'radius':1,'dropTableId':'d','respawnSeconds':0} | /position/w",
        "position not finite | {'zone':'z','position':{'x':1e400,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':0} | /position/x",
        "radius zero | {'zone':'z','position':{'x':1,'y':1,'z':1},'radius':0,'dropTableId':'d','respawnSeconds':0} | /radius",
        "respawn negative | {'zone':'z','position':{'x':1,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':-1} | /respawnSeconds",
        "respawn fractional | {'zone':'z','position':{'x':1,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':1.5} | /respawnSeconds",
        "tags not unique | {'zone':'z','position':{'x':1,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':0,'tags':['a','a']} | /tags",
        "unknown field | {'zone':'z','position':{'x':1,'y':1,'z':1},'radius':1,'dropTableId':'d','respawnSeconds':0,'colour':1} | /colour",
      })
  void treasureLocationRules(String name, String json, String pointer) throws Exception {
    assertThat(pointers(Kind.TREASURE_LOCATION, json.replace('\'', '"'))).contains(pointer);
  }

  @Test
  void anIdFollowedByALineBreakIsRefusedWhereItIs() throws Exception {
    assertThat(pointers(Kind.TREASURE_LOCATION, Payloads.treasureLocation("z", "dt-1\\n")))
        .containsExactly("/dropTableId");
    assertThat(pointers(Kind.SPAWN_RULE, Payloads.spawnRule("z\\n", "loc-1", "dt-1")))
        .containsExactly("/zone");
    assertThat(pointers(Kind.SPAWN_RULE, Payloads.spawnRule("z", "loc-1\\n", "dt-1")))
        .containsExactly("/locationIds/0");
    assertThat(pointers(Kind.DROP_TABLE, Payloads.dropTable("gold\\n", 1)))
        .containsExactly("/entries/0/itemId");
  }

  /** A schema whose pattern has no checker fails when it is loaded (at start), not at a write. */
  @Test
  void aSchemaWithAnotherPatternFailsWhenLoadedNotAtAWrite() {
    JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    SchemaValidatorsConfig config =
        SchemaValidatorsConfig.builder().regularExpressionFactory(new SchemaPatterns()).build();

    assertThatThrownBy(
            () ->
                factory.getSchema(
                    """
                    {"properties": {"cron": {"$ref": "#/$defs/cron"}},
                     "$defs": {"cron": {"type": "string", "pattern": "^[0-9 *]+$"}}}""",
                    config))
        .hasStackTraceContaining("schema pattern ^[0-9 *]+$: only the id rule");
  }

  @Test
  void refusesMoreThan32Tags() throws Exception {
    StringBuilder tags = new StringBuilder();
    for (int i = 0; i < 33; i++) {
      tags.append(i == 0 ? "" : ",").append("\"t").append(i).append('"');
    }
    String json =
        "{\"zone\":\"z\",\"position\":{\"x\":1,\"y\":1,\"z\":1},\"radius\":1,\"dropTableId\":\"d\","
            + "\"respawnSeconds\":0,\"tags\":["
            + tags
            + "]}";

    assertThat(pointers(Kind.TREASURE_LOCATION, json)).containsExactly("/tags");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "rolls zero | {'rolls':0,'entries':[{'itemId':'a','weight':1,'minQuantity':0,'maxQuantity':1}]} | /rolls",
        "rolls over 100 | {'rolls':101,'entries':[{'itemId':'a','weight':1,'minQuantity':0,'maxQuantity':1}]} | /rolls",
        "no entries | {'rolls':1,'entries':[]} | /entries",
        "weight zero | {'rolls':1,'entries':[{'itemId':'a','weight':0,'minQuantity':0,'maxQuantity':1}]} | /entries/0/weight",
        "negative weight | {'rolls':1,'entries':[{'itemId':'a','weight':-2,'minQuantity':0,'maxQuantity':1}]} | /entries/0/weight",
        "negative min | {'rolls':1,'entries':[{'itemId':'a','weight':1,'minQuantity':-1,'maxQuantity':1}]} | /entries/0/minQuantity",
        "max below min | {'rolls':1,'entries':[{'itemId':'a','weight':1,'minQuantity':5,'maxQuantity':4}]} | /entries/0/maxQuantity",
        "duplicate item | {'rolls':1,'entries':[{'itemId':'a','weight':1,'minQuantity':0,'maxQuantity':1},{'itemId':'a','weight':1,'minQuantity':0,'maxQuantity':1}]} | /entries/1/itemId",
        "missing itemId | {'rolls':1,'entries':[{'weight':1,'minQuantity':0,'maxQuantity':1}]} | /entries/0/itemId",
        "id mismatch | {'id':'other','rolls':1,'entries':[{'itemId':'a','weight':1,'minQuantity':0,'maxQuantity':1}]} | /id",
      })
  void dropTableRules(String name, String json, String pointer) throws Exception {
    assertThat(pointers(Kind.DROP_TABLE, json.replace('\'', '"'))).contains(pointer);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "neither interval nor cron | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1} | ''",
        "both interval and cron | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1,'intervalSeconds':5,'cron':'* * * * *'} | /cron",
        "interval zero | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1,'intervalSeconds':0} | /intervalSeconds",
        "bad cron | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1,'cron':'every day'} | /cron",
        "six-field cron | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1,'cron':'0 0 * * * *'} | /cron",
        "maxActive zero | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':0,'intervalSeconds':5} | /maxActive",
        "no locations | {'zone':'z','locationIds':[],'dropTableId':'d','maxActive':1,'intervalSeconds':5} | /locationIds",
        "bad location id | {'zone':'z','locationIds':['ok','no way'],'dropTableId':'d','maxActive':1,'intervalSeconds':5} | /locationIds/1",
        "window reversed | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1,'intervalSeconds':5,'activeFrom':'2026-12-02T00:00:00Z','activeUntil':'2026-12-01T00:00:00Z'} | /activeUntil",
        "window not RFC 3339 | {'zone':'z','locationIds':['l'],'dropTableId':'d','maxActive':1,'intervalSeconds':5,'activeFrom':'tomorrow'} | /activeFrom",
      })
  void spawnRuleRules(String name, String json, String pointer) throws Exception {
    assertThat(pointers(Kind.SPAWN_RULE, json.replace('\'', '"'))).contains(pointer);
  }

  @Test
  void acceptsCronAndAnOpenTimeWindow() throws Exception {
    String json =
        "{\"zone\":\"z\",\"locationIds\":[\"l\"],\"dropTableId\":\"d\",\"maxActive\":1,"
            + "\"cron\":\"*/5 18-23 * * MON-FRI\",\"activeFrom\":\"2026-12-01T18:00:00+01:00\"}";

    assertThat(pointers(Kind.SPAWN_RULE, json)).isEmpty();
  }

  @Test
  void refusesAThousandAndOneLocations() throws Exception {
    ObjectNode rule = (ObjectNode) CanonicalJsonTest.parse(Payloads.spawnRule("z", "l0", "d"));
    for (int i = 1; i <= 1000; i++) {
      rule.withArray("locationIds").add("l" + i);
    }

    assertThat(pointers(Kind.SPAWN_RULE, rule.toString())).containsExactly("/locationIds");
  }

  @Test
  void payloadOverTheLimitIsTooLarge() throws Exception {
    String json = "{\"rolls\":1,\"entries\":[],\"pad\":\"" + "x".repeat(70_000) + "\"}";

    assertThatThrownBy(
            () ->
                validator.validate(
                    new DocumentKey(Kind.DROP_TABLE, "d"), CanonicalJsonTest.parse(json)))
        .isInstanceOf(PayloadTooLargeException.class)
        .hasMessageContaining("65536");
  }

  @Test
  void payloadMustBeAnObject() throws Exception {
    assertThat(pointers(Kind.DROP_TABLE, "[1,2]")).containsExactly("");
  }
}
