package org.diffrep.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import org.diffrep.InvalidInputException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A node of a parsed plan with its key path ({@code probe.label_noise[1]}): typed reads that fail with
 * one message naming the plan file, the key path and what was expected, and a check that an object
 * holds only known keys (with a "did you mean" when a known key is one or two edits away).
 */
final class PlanNode {

    private final String file;
    private final String path;
    private final JsonNode node;

    PlanNode(String file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    String path() {
        return path;
    }

    JsonNode json() {
        return node;
    }

    boolean isObject() {
        return node.isObject();
    }

    boolean isText() {
        return node.isTextual();
    }

    boolean isArray() {
        return node.isArray();
    }

    /** An error about this node: "FILE: PATH: detail". */
    InvalidInputException error(String detail) {
        return new InvalidInputException(file + ": " + (path.isEmpty() ? "" : path + ": ") + detail);
    }

    /** An error naming what was expected and what the plan holds here. */
    InvalidInputException expected(String what) {
        return error("expected " + what + ", got " + describe(node));
    }

    /** Throws unless this is an object whose keys are all in {@code known}. */
    PlanNode requireObject(String what, Set<String> known) {
        if (!node.isObject()) {
            throw expected(what);
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                String hint = closest(k, known);
                throw new InvalidInputException(file + ": " + child(k) + ": unknown key"
                        + (hint == null ? "" : " (did you mean " + child(hint) + "?)")
                        + "; expected one of " + String.join(", ", known));
            }
        }
        return this;
    }

    /** The member {@code key}, or null when absent or null. */
    PlanNode get(String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : new PlanNode(file, child(key), v);
    }

    /** The member {@code key}; an error naming it when absent. */
    PlanNode require(String key, String what) {
        PlanNode v = get(key);
        if (v == null) {
            throw new InvalidInputException(file + ": " + child(key) + ": missing; expected " + what);
        }
        return v;
    }

    /** The members of an object in their order, each with its path. */
    Map<String, PlanNode> members() {
        Map<String, PlanNode> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(), new PlanNode(file, child(e.getKey()), e.getValue())));
        return out;
    }

    /** The items of a list; a single value counts as a list of one. */
    List<PlanNode> items() {
        List<PlanNode> out = new ArrayList<>();
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                out.add(new PlanNode(file, path + "[" + i + "]", node.get(i)));
            }
        } else {
            out.add(this);
        }
        return out;
    }

    String text(String what) {
        if (!node.isTextual() || node.asText().isBlank()) {
            throw expected(what);
        }
        return node.asText().strip();
    }

    /** A whole number in [min, max]. */
    long integer(long min, long max) {
        if (!node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < min || node.asLong() > max) {
            throw expected("a whole number" + range(min, max));
        }
        return node.asLong();
    }

    int integer(int min, int max) {
        return (int) integer((long) min, max);
    }

    /** A finite number in [min, max] (or [min, max) when {@code openMax}). */
    double number(double min, double max, boolean openMax) {
        if (!node.isNumber() || !Double.isFinite(node.asDouble()) || node.asDouble() < min
                || (openMax ? node.asDouble() >= max : node.asDouble() > max)) {
            throw expected(max == Double.MAX_VALUE ? "a number >= " + fmt(min)
                    : "a number in [" + fmt(min) + ", " + fmt(max) + (openMax ? ")" : "]"));
        }
        return node.asDouble();
    }

    boolean bool() {
        if (!node.isBoolean()) {
            throw expected("true or false");
        }
        return node.asBoolean();
    }

    /** Plain names ([A-Za-z0-9._-]+), used in file names and tables. */
    static void checkName(PlanNode where, String name) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw where.error("the name '" + name + "' must be letters, digits, '.', '_' or '-' (at most 64)");
        }
    }

    private String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String range(long min, long max) {
        if (max == Long.MAX_VALUE || max == Integer.MAX_VALUE) {
            return " >= " + min;
        }
        return " in [" + min + ", " + max + "]";
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    static String describe(JsonNode n) {
        JsonNodeType t = n.getNodeType();
        return switch (t) {
            case OBJECT -> "a map";
            case ARRAY -> "a list";
            case STRING -> "the text '" + n.asText() + "'";
            case NUMBER -> "the number " + n.asText();
            case BOOLEAN -> n.asText();
            case NULL, MISSING -> "nothing";
            default -> t.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** The known key at most two edits from {@code key} (the nearest), or null. */
    static String closest(String key, Set<String> known) {
        String best = null;
        int bestD = 3;
        for (String k : known) {
            int d = distance(key.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
