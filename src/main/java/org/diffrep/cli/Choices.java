package org.diffrep.cli;

import org.diffrep.Choice;
import org.diffrep.InvalidInputException;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Options whose defaults come from the library's configuration builders, and enum options, as
 * picocli sees them: every enum option is converted from its {@link Choice#idOf spelling} by one
 * converter, and {@code --help} shows an option's default the way it is typed (an enum by its
 * spelling, a number without trailing zeros, a list comma-separated) rather than as Java prints the
 * field's initial value.
 */
final class Choices {

    private Choices() {
    }

    /** Registers the enum converter for every enum option of {@code cl}'s commands and the default provider. */
    static CommandLine configure(CommandLine cl) {
        List<Class<?>> enums = new ArrayList<>();
        collectEnums(cl, enums);
        for (Class<?> type : enums) {
            register(cl, type);
        }
        cl.setDefaultValueProvider(Choices::defaultValue);
        return cl;
    }

    private static void collectEnums(CommandLine cl, List<Class<?>> enums) {
        for (OptionSpec o : cl.getCommandSpec().options()) {
            List<Class<?>> types = new ArrayList<>(List.of(o.type()));
            types.addAll(List.of(o.auxiliaryTypes()));
            for (Class<?> t : types) {
                if (t.isEnum() && !enums.contains(t)) {
                    enums.add(t);
                }
            }
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            collectEnums(sub, enums);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void register(CommandLine cl, Class<?> type) {
        cl.registerConverter((Class) type, converter((Class) type));
    }

    /** Converts an option's text to the enum constant it spells; picocli reports a bad one as a usage error. */
    static <E extends Enum<E>> CommandLine.ITypeConverter<E> converter(Class<E> type) {
        return text -> {
            try {
                return Choice.parse(type, text);
            } catch (InvalidInputException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        };
    }

    /**
     * The default of an option whose field's initial value is its default (no {@code defaultValue} in
     * the annotation), as it would be typed: the spelling of an enum, a number without trailing zeros
     * ({@link #typed}), a list (split at commas) comma-separated. Null otherwise: picocli then shows and
     * uses the annotation's default or the field's initial value.
     */
    static String defaultValue(ArgSpec arg) {
        if (arg.defaultValue() != null) {
            return null; // the annotation's defaultValue stands
        }
        Object v = arg.initialValue();
        if (v instanceof Enum<?> || v instanceof Double || v instanceof Float) {
            return typed(v);
        }
        if (!",".equals(arg.splitRegex()) || v == null) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        if (v instanceof Collection<?> c) {
            c.forEach(x -> parts.add(typed(x)));
        } else if (v.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(v); i++) {
                parts.add(typed(Array.get(v, i)));
            }
        } else {
            return null;
        }
        return parts.isEmpty() ? null : String.join(",", parts);
    }

    /** A value as typed: an enum by its spelling, a number without trailing zeros (0.001, 2, 1e-4). */
    static String typed(Object v) {
        if (v instanceof Enum<?> e) {
            return Choice.idOf(e);
        }
        if ((v instanceof Double || v instanceof Float) && Double.isFinite(((Number) v).doubleValue())) {
            BigDecimal d = new BigDecimal(v.toString()).stripTrailingZeros();
            if (d.signum() != 0 && d.abs().compareTo(new BigDecimal("0.001")) < 0) {
                // 1e-4, 2.5e-5: the digits and the exponent, as a person writes them
                String digits = d.unscaledValue().abs().toString();
                int exponent = digits.length() - 1 - d.scale();
                return (d.signum() < 0 ? "-" : "") + digits.charAt(0)
                        + (digits.length() > 1 ? "." + digits.substring(1) : "") + "e" + exponent;
            }
            return d.toPlainString();
        }
        return String.valueOf(v);
    }
}
