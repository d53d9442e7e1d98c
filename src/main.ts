/** Page entry: registers the custom elements; <r1s-app> in index.html does the rest. */
import './ui/r1s-app.ts';
