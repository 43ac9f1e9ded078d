/**
 * Entry of the loss panel webview bundle (dist/webview/loss.js + loss.css): mounts the Svelte app that
 * draws a training run's live metrics with uPlot. uPlot's stylesheet is bundled into loss.css so that it
 * loads under the webview's Content-Security-Policy (no inline styles).
 */
import 'uplot/dist/uPlot.min.css';
import { mount } from 'svelte';
import App from './App.svelte';
import './loss.css';

mount(App, { target: document.getElementById('app') ?? document.body });
