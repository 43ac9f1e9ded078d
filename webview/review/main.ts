/**
 * Entry point of the review panel's webview: mounts the Svelte app that shows the three lists of likely
 * annotation errors and posts the user's actions to the host (see webview/protocol/review.ts).
 */
import { mount } from 'svelte';
import App from './App.svelte';
import './review.css';

const target = document.getElementById('app') ?? document.body;
mount(App, { target });
